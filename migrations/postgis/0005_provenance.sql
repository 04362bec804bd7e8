-- 0005 provenance: the source (file or feed name) and the source id of an
-- imported component, in columns of their own. A re-import matches rows to
-- components by (source_name, class, source_id) only.

ALTER TABLE parts ADD COLUMN IF NOT EXISTS source_name text;
ALTER TABLE parts ADD COLUMN IF NOT EXISTS source_id text;
