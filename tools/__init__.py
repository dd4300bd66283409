"""Build tooling for the course book (not imported by lectures)."""
