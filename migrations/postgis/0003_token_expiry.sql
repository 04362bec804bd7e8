-- 0003 token expiry: API tokens may expire (citytwin token create --ttl)
-- and be revoked (citytwin token revoke, DELETE /admin/tokens/{id}).
-- NULL means never expires / not revoked. A revoked token stays in the
-- table, listed and refused.
ALTER TABLE tokens
  ADD COLUMN IF NOT EXISTS expires timestamptz,
  ADD COLUMN IF NOT EXISTS revoked_at timestamptz;
