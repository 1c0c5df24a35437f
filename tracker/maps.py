"""Maps for notebooks: ``tracker.maps.build_map(...)`` returns a ``folium.Map``.

from tracker.store import open_store
from tracker import maps
layers = maps.collect_layers(open_store("tracker.db"), ports=["Conakry", "Bata"])
m = maps.build_map(layers, tiles="cartodb-positron")   # display in Jupyter
maps.write_map(m, "maps/case.html")                     # one self-contained HTML file
"""

from tracker.jobs.case_layers import CaseLayers, collect_layers
from tracker.outputs.maps import TILES, build_map, write_map

__all__ = ["TILES", "CaseLayers", "build_map", "collect_layers", "write_map"]
