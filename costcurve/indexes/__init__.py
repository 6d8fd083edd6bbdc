"""Published indices computed from the versioned tables (the GPU price index)."""
