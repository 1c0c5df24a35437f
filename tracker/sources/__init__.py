"""tracker.sources"""
