"""tracker.sources.ais"""
