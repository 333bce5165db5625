-- Every refresh updates two rows it does not index: the old token's blacklisted_at and replaced_by, and its
-- session's last_used_at. With room left on each page, PostgreSQL writes the new row version on the same page
-- (a HOT update) and touches none of the table's indexes; on a full page it adds an entry to every index
-- (four on each table). Pages filled to 80% by inserts keep that room. Tables already holding rows keep their
-- pages as they are; new and rewritten pages follow the setting.
ALTER TABLE "refresh_tokens" SET (fillfactor = 80);--> statement-breakpoint
ALTER TABLE "sessions" SET (fillfactor = 80);
