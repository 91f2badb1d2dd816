"""Load stage: PostGIS, the datasette directory, vector tiles and the S3 datastore.

Each module is import-light; heavy libraries (psycopg, shapely) are imported inside functions.
"""
