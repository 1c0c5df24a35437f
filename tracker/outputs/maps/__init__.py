"""tracker.outputs.maps"""
