"""tracker.outputs"""
