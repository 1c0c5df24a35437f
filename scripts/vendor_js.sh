#!/usr/bin/env bash
# Refresh the JavaScript/CSS that tracker inlines into its maps (so maps work offline).
# Fetches pinned releases from the npm registry; licences are copied beside the files.
set -euo pipefail
dest="$(cd "$(dirname "$0")/.." && pwd)/tracker/outputs/maps/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent leaflet@1.9.4 leaflet.markercluster@1.5.3 >/dev/null
mkdir leaflet markercluster
tar xzf leaflet-1.9.4.tgz -C leaflet
tar xzf leaflet.markercluster-1.5.3.tgz -C markercluster
cp leaflet/package/dist/leaflet.js leaflet/package/dist/leaflet.css "$dest/"
cp leaflet/package/LICENSE "$dest/LICENSE-leaflet.txt"
cp markercluster/package/dist/leaflet.markercluster.js markercluster/package/dist/MarkerCluster.css \
   markercluster/package/dist/MarkerCluster.Default.css "$dest/"
cp markercluster/package/MIT-LICENCE.txt "$dest/LICENSE-leaflet.markercluster.txt"
echo "vendored into $dest"
