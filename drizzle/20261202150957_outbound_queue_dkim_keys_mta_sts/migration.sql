CREATE TABLE `mta_sts_policies` (
	`domain` text PRIMARY KEY,
	`policy_id` text NOT NULL,
	`mode` text NOT NULL,
	`mx` text NOT NULL,
	`max_age` integer NOT NULL,
	`fetched_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `dkim_keys` (
	`id` integer PRIMARY KEY AUTOINCREMENT,
	`domain_id` integer NOT NULL,
	`selector` text NOT NULL,
	`key_type` text NOT NULL,
	`key_size` integer NOT NULL,
	`private_key` text NOT NULL,
	`public_key` text NOT NULL,
	`status` text NOT NULL,
	`created_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	`updated_at` integer DEFAULT (cast(unixepoch('subsec') * 1000 as integer)) NOT NULL,
	CONSTRAINT `fk_dkim_keys_domain_id_domains_id_fk` FOREIGN KEY (`domain_id`) REFERENCES `domains`(`id`) ON DELETE CASCADE
);
--> statement-breakpoint
ALTER TABLE `outbound_queue` ADD `dsn_orcpt` text;--> statement-breakpoint
ALTER TABLE `outbound_queue` ADD `dsn_to` text;--> statement-breakpoint
ALTER TABLE `outbound_queue` ADD `origin` text DEFAULT 'forward' NOT NULL;--> statement-breakpoint
ALTER TABLE `outbound_queue` ADD `last_mx` text;--> statement-breakpoint
ALTER TABLE `outbound_queue` ADD `delay_notified_at` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `dkim_keys_domain_selector_idx` ON `dkim_keys` (`domain_id`,`selector`);