-- 0004 provenance: the source (file or feed name) and the source id of an
-- imported component, in columns of their own. A re-import matches rows to
-- components by (source_name, class, source_id) only.

ALTER TABLE parts ADD COLUMN source_name TEXT;
ALTER TABLE parts ADD COLUMN source_id TEXT;
