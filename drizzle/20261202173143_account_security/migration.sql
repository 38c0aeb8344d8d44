CREATE TABLE `recovery_codes` (
	`id` integer PRIMARY KEY AUTOINCREMENT,
	`user_id` integer NOT NULL,
	`code_hash` text NOT NULL,
	`used_at` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	CONSTRAINT `fk_recovery_codes_user_id_users_id_fk` FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON DELETE CASCADE
);
--> statement-breakpoint
ALTER TABLE `app_passwords` ADD `scopes` text DEFAULT '["imap","smtp"]' NOT NULL;--> statement-breakpoint
ALTER TABLE `app_passwords` ADD `last_used_ip` text;--> statement-breakpoint
ALTER TABLE `users` ADD `totp_pending_secret` text;--> statement-breakpoint
ALTER TABLE `users` ADD `totp_last_step` integer;--> statement-breakpoint
ALTER TABLE `blocked_ips` ADD `kind` text DEFAULT 'auto' NOT NULL;--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_blocked_ips` (
	`ip` text PRIMARY KEY,
	`kind` text DEFAULT 'auto' NOT NULL,
	`reason` text NOT NULL,
	`blocked_until` integer,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
INSERT INTO `__new_blocked_ips`(`ip`, `reason`, `blocked_until`, `created_at`) SELECT `ip`, `reason`, `blocked_until`, `created_at` FROM `blocked_ips`;--> statement-breakpoint
DROP TABLE `blocked_ips`;--> statement-breakpoint
ALTER TABLE `__new_blocked_ips` RENAME TO `blocked_ips`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `blocked_ips_until_idx` ON `blocked_ips` (`blocked_until`);--> statement-breakpoint
CREATE INDEX `recovery_codes_user_idx` ON `recovery_codes` (`user_id`);