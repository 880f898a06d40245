-- Access-token revocation: an access token names its device, and the device's sign-in ends when the device is
-- removed (devices.revoked_at), signed out, or its refresh token is reused (its refresh family revoked). The
-- server asks this function on a cache miss, before a user is known (the token's claims are not trusted to
-- pick the row-level-security user of a lookup whose answer decides whether they are trusted), hence
-- SECURITY DEFINER; it returns only the reason.
--
-- There is one refresh family per device (a sign-in makes a new device), so "no live family" means the
-- device can never refresh again: its access tokens end too.

-- NULL while the device's sign-in is live; otherwise why it ended: 'device_removed', 'logout', 'reuse', or
-- 'unknown' (no such device of this user).
CREATE FUNCTION auren_device_access(p_user uuid, p_device uuid) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp
    AS $$
        SELECT CASE
            WHEN d.id IS NULL THEN 'unknown'
            WHEN d.revoked_at IS NOT NULL THEN 'device_removed'
            WHEN EXISTS (SELECT 1 FROM refresh_families f WHERE f.device_id = d.id AND f.revoked_at IS NULL)
                THEN NULL
            ELSE coalesce((SELECT f.revoked_reason FROM refresh_families f WHERE f.device_id = d.id
                           ORDER BY f.revoked_at DESC LIMIT 1), 'logout')
        END
        FROM (SELECT 1) AS one
        LEFT JOIN devices d ON d.id = p_device AND d.user_id = p_user
    $$;

REVOKE ALL ON FUNCTION auren_device_access(uuid, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auren_device_access(uuid, uuid) TO auren_app;
