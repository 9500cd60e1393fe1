"""Exactly-once orders: client order ids, journal, resolution, de-duplication."""
