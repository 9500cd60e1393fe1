"""Tests of signproxy.okx: signing known answers, canonical targets and bodies."""
