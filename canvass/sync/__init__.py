"""Offline sync: turf packets (reads) and the merge services every way in ends in (writes).

- `canvass.sync.packets`: the turf packet selector (`turf_packet_build`).
- `canvass.sync.merge`: the exactly-once merge of items pushed by devices
  (`sync_items_merge` and the per-kind functions the WatermelonDB protocol reuses).
"""
