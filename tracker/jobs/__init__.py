"""Jobs: orchestration over a store. Read frames from the store, run the pure analysis
functions on them, write results back and hand plain data to outputs (detect over a store,
screen the vessels, link stored sightings, collect a case's map layers, load the demo case,
the watch loop and alert runs).

Layers: ``cli > jobs > outputs > analysis > store > sources > core``; analysis and outputs
never import the store or jobs, so only jobs (and the CLI) drive the database.
"""
