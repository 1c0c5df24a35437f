"""tracker.outputs.alerts"""
