-- 0002: geometry parsing used by the dataset load.
-- Each function turns WKT text into a valid geometry of its column's type, or NULL when the text
-- cannot be parsed or holds nothing of that type, so one bad value never aborts a whole load.

CREATE OR REPLACE FUNCTION planning_multipolygon(wkt text) RETURNS geometry(MULTIPOLYGON, 4326)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    g geometry;
BEGIN
    IF wkt IS NULL OR btrim(wkt) = '' THEN
        RETURN NULL;
    END IF;
    BEGIN
        g := ST_Force2D(ST_GeomFromText(wkt));
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END;
    IF NOT ST_IsValid(g) THEN
        g := ST_MakeValid(g);
    END IF;
    g := ST_Multi(ST_CollectionExtract(g, 3));
    IF g IS NULL OR ST_IsEmpty(g) THEN
        RETURN NULL;
    END IF;
    RETURN ST_SetSRID(g, 4326);
END;
$$;

CREATE OR REPLACE FUNCTION planning_point(wkt text) RETURNS geometry(POINT, 4326)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    g geometry;
BEGIN
    IF wkt IS NULL OR btrim(wkt) = '' THEN
        RETURN NULL;
    END IF;
    BEGIN
        g := ST_Force2D(ST_GeomFromText(wkt));
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END;
    IF ST_GeometryType(g) <> 'ST_Point' OR ST_IsEmpty(g) THEN
        RETURN NULL;
    END IF;
    RETURN ST_SetSRID(g, 4326);
END;
$$;
