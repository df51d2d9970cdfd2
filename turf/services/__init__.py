"""Write services of the geography app (turfs, layers, point-in-polygon)."""
