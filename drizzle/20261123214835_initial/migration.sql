CREATE TABLE `aliases` (
	`id` integer PRIMARY KEY AUTOINCREMENT,
	`domain_id` integer NOT NULL,
	`address` text NOT NULL UNIQUE,
	`destinations` text NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	CONSTRAINT `fk_aliases_domain_id_domains_id_fk` FOREIGN KEY (`domain_id`) REFERENCES `domains`(`id`) ON DELETE CASCADE
);
--> statement-breakpoint
CREATE TABLE `app_passwords` (
	`id` integer PRIMARY KEY AUTOINCREMENT,
	`user_id` integer NOT NULL,
	`name` text NOT NULL,
	`password_hash` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`last_used_at` integer,
	CONSTRAINT `fk_app_passwords_user_id_users_id_fk` FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON DELETE CASCADE
);
--> statement-breakpoint
CREATE TABLE `users` (
	`id` integer PRIMARY KEY AUTOINCREMENT,
	`domain_id` integer NOT NULL,
	`email` text NOT NULL UNIQUE,
	`local_part` text NOT NULL,
	`full_name` text,
	`password_hash` text NOT NULL,
	`quota` integer,
	`used_bytes` integer DEFAULT 0 NOT NULL,
	`status` text DEFAULT 'active' NOT NULL,
	`totp_secret` text,
	`totp_enabled` integer DEFAULT false NOT NULL,
	`last_login_at` integer,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	CONSTRAINT `fk_users_domain_id_domains_id_fk` FOREIGN KEY (`domain_id`) REFERENCES `domains`(`id`) ON DELETE RESTRICT
);
--> statement-breakpoint
CREATE TABLE `api_tokens` (
	`id` integer PRIMARY KEY AUTOINCREMENT,
	`name` text NOT NULL,
	`token_hash` text NOT NULL UNIQUE,
	`scopes` text DEFAULT '["admin"]' NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`last_used_at` integer,
	`expires_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` integer PRIMARY KEY AUTOINCREMENT,
	`at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`target_type` text NOT NULL,
	`target` text NOT NULL,
	`details` text
);
--> statement-breakpoint
CREATE TABLE `delivery_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT,
	`type` text NOT NULL,
	`at` integer NOT NULL,
	`message_id` text,
	`queue_id` text,
	`sender` text,
	`recipients` text DEFAULT '[]' NOT NULL,
	`domain` text,
	`user_email` text,
	`remote_ip` text,
	`reason` text,
	`details` text
);
--> statement-breakpoint
CREATE TABLE `outbound_queue` (
	`id` integer PRIMARY KEY AUTOINCREMENT,
	`queue_id` text NOT NULL,
	`spool_file` text NOT NULL,
	`sender` text NOT NULL,
	`recipient` text NOT NULL,
	`recipient_domain` text NOT NULL,
	`size` integer NOT NULL,
	`user_id` integer,
	`status` text DEFAULT 'queued' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`last_attempt_at` integer,
	`last_error` text,
	`last_code` integer,
	`dsn_envid` text,
	`dsn_notify` text,
	`dsn_ret` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`expires_at` integer NOT NULL,
	CONSTRAINT `fk_outbound_queue_user_id_users_id_fk` FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON DELETE SET NULL
);
--> statement-breakpoint
CREATE TABLE `domains` (
	`id` integer PRIMARY KEY AUTOINCREMENT,
	`name` text NOT NULL UNIQUE,
	`status` text DEFAULT 'active' NOT NULL,
	`max_users` integer DEFAULT 0 NOT NULL,
	`max_mailbox_size` integer DEFAULT 0 NOT NULL,
	`default_quota` integer DEFAULT 1073741824 NOT NULL,
	`catchall_email` text,
	`backup_mx` integer DEFAULT false NOT NULL,
	`dkim_selector` text DEFAULT 'default' NOT NULL,
	`dkim_private_key` text,
	`dkim_public_key` text,
	`dkim_signing_enabled` integer DEFAULT true NOT NULL,
	`dkim_verify_enabled` integer DEFAULT true NOT NULL,
	`dkim_key_size` integer DEFAULT 2048 NOT NULL,
	`dkim_key_type` text DEFAULT 'rsa' NOT NULL,
	`dkim_headers_to_sign` text DEFAULT '["From","To","Subject","Date","Message-ID","MIME-Version","Content-Type"]' NOT NULL,
	`spf_record` text,
	`spf_enabled` integer DEFAULT true NOT NULL,
	`spf_max_lookups` integer DEFAULT 10 NOT NULL,
	`spf_fail_action` text DEFAULT 'reject' NOT NULL,
	`spf_softfail_action` text DEFAULT 'accept' NOT NULL,
	`dmarc_policy` text DEFAULT 'none' NOT NULL,
	`dmarc_enabled` integer DEFAULT true NOT NULL,
	`dmarc_report_enabled` integer DEFAULT false NOT NULL,
	`dmarc_report_email` text,
	`clamav_enabled` integer DEFAULT true NOT NULL,
	`clamav_max_scan_size` integer DEFAULT 52428800 NOT NULL,
	`clamav_virus_action` text DEFAULT 'reject' NOT NULL,
	`clamav_fail_action` text DEFAULT 'accept' NOT NULL,
	`spam_enabled` integer DEFAULT true NOT NULL,
	`spam_reject_score` real DEFAULT 10 NOT NULL,
	`spam_quarantine_score` real DEFAULT 5 NOT NULL,
	`spam_learning_enabled` integer DEFAULT true NOT NULL,
	`greylist_enabled` integer DEFAULT true NOT NULL,
	`greylist_delay_minutes` integer DEFAULT 5 NOT NULL,
	`greylist_expiry_days` integer DEFAULT 30 NOT NULL,
	`greylist_cleanup_interval` integer DEFAULT 3600 NOT NULL,
	`greylist_whitelist_after` integer DEFAULT 3 NOT NULL,
	`ratelimit_enabled` integer DEFAULT true NOT NULL,
	`ratelimit_smtp_per_ip` text DEFAULT '{"count":100,"window_minutes":60}' NOT NULL,
	`ratelimit_smtp_per_user` text DEFAULT '{"count":500,"window_minutes":60}' NOT NULL,
	`ratelimit_smtp_per_domain` text DEFAULT '{"count":1000,"window_minutes":60}' NOT NULL,
	`ratelimit_auth_per_ip` text DEFAULT '{"count":10,"window_minutes":15}' NOT NULL,
	`ratelimit_imap_per_user` text DEFAULT '{"count":1000,"window_minutes":60}' NOT NULL,
	`ratelimit_cleanup_interval` integer DEFAULT 300 NOT NULL,
	`auth_totp_enforced` integer DEFAULT false NOT NULL,
	`auth_brute_force_enabled` integer DEFAULT true NOT NULL,
	`auth_brute_force_threshold` integer DEFAULT 5 NOT NULL,
	`auth_brute_force_window_minutes` integer DEFAULT 15 NOT NULL,
	`auth_brute_force_block_minutes` integer DEFAULT 60 NOT NULL,
	`auth_ip_blacklist_enabled` integer DEFAULT true NOT NULL,
	`auth_cleanup_interval` integer DEFAULT 3600 NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `mailbox_expunges` (
	`mailbox_id` integer NOT NULL,
	`uid` integer NOT NULL,
	`modseq` integer NOT NULL,
	CONSTRAINT `mailbox_expunges_pk` PRIMARY KEY(`mailbox_id`, `uid`),
	CONSTRAINT `fk_mailbox_expunges_mailbox_id_mailboxes_id_fk` FOREIGN KEY (`mailbox_id`) REFERENCES `mailboxes`(`id`) ON DELETE CASCADE
);
--> statement-breakpoint
CREATE TABLE `mailboxes` (
	`id` integer PRIMARY KEY AUTOINCREMENT,
	`user_id` integer NOT NULL,
	`name` text NOT NULL,
	`special_use` text,
	`uidvalidity` integer NOT NULL,
	`uidnext` integer DEFAULT 1 NOT NULL,
	`highestmodseq` integer DEFAULT 1 NOT NULL,
	`subscribed` integer DEFAULT true NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	CONSTRAINT `fk_mailboxes_user_id_users_id_fk` FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON DELETE CASCADE
);
--> statement-breakpoint
CREATE TABLE `messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT,
	`mailbox_id` integer NOT NULL,
	`uid` integer NOT NULL,
	`modseq` integer NOT NULL,
	`seen` integer DEFAULT false NOT NULL,
	`answered` integer DEFAULT false NOT NULL,
	`flagged` integer DEFAULT false NOT NULL,
	`deleted` integer DEFAULT false NOT NULL,
	`draft` integer DEFAULT false NOT NULL,
	`keywords` text DEFAULT '[]' NOT NULL,
	`internal_date` integer NOT NULL,
	`size` integer NOT NULL,
	`maildir_name` text NOT NULL,
	`message_id` text,
	`subject` text,
	`from_addr` text,
	`date_header` integer,
	`envelope` text,
	`body_structure` text,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	CONSTRAINT `fk_messages_mailbox_id_mailboxes_id_fk` FOREIGN KEY (`mailbox_id`) REFERENCES `mailboxes`(`id`) ON DELETE CASCADE
);
--> statement-breakpoint
CREATE TABLE `blocked_ips` (
	`ip` text PRIMARY KEY,
	`reason` text NOT NULL,
	`blocked_until` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `greylist` (
	`id` integer PRIMARY KEY AUTOINCREMENT,
	`ip_net` text NOT NULL,
	`sender` text NOT NULL,
	`recipient` text NOT NULL,
	`first_seen_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL,
	`pass_count` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `rate_limit_counters` (
	`key` text PRIMARY KEY,
	`window_start` integer NOT NULL,
	`count` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `aliases_domain_idx` ON `aliases` (`domain_id`);--> statement-breakpoint
CREATE INDEX `app_passwords_user_idx` ON `app_passwords` (`user_id`);--> statement-breakpoint
CREATE INDEX `users_domain_idx` ON `users` (`domain_id`);--> statement-breakpoint
CREATE INDEX `audit_log_at_idx` ON `audit_log` (`at`);--> statement-breakpoint
CREATE INDEX `delivery_events_at_idx` ON `delivery_events` (`at`);--> statement-breakpoint
CREATE INDEX `delivery_events_domain_idx` ON `delivery_events` (`domain`,`at`);--> statement-breakpoint
CREATE INDEX `outbound_queue_due_idx` ON `outbound_queue` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `outbound_queue_queue_id_idx` ON `outbound_queue` (`queue_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `mailboxes_user_name_idx` ON `mailboxes` (`user_id`,`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `messages_mailbox_uid_idx` ON `messages` (`mailbox_id`,`uid`);--> statement-breakpoint
CREATE INDEX `messages_mailbox_modseq_idx` ON `messages` (`mailbox_id`,`modseq`);--> statement-breakpoint
CREATE INDEX `messages_message_id_idx` ON `messages` (`message_id`);--> statement-breakpoint
CREATE UNIQUE INDEX `greylist_triplet_idx` ON `greylist` (`ip_net`,`sender`,`recipient`);