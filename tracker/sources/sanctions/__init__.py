"""tracker.sources.sanctions"""
