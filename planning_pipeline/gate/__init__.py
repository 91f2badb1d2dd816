"""The regression gate between assemble and publication: compare, then publish or hold."""
