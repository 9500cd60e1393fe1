"""The image, compose file, CI entry point and docs agree with the code."""
