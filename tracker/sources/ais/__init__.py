"""AIS sources: NMEA files and feeds, CSV exports and JSON lines, decoded with pyais."""
