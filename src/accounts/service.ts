/**
 * Account operations shared by every API: users (passwords hashed here, never stored or logged in clear) and
 * aliases. Rules: validate before writing; every password a user gets passes auth/passwordPolicy.ts (a
 * ValidationError on the `password` field otherwise); changePassword also needs the current password (an
 * AuthenticationError when it does not match); a new password ends the user's API sessions (changePassword keeps the
 * caller's own); quotas are bytes (0 = unlimited, null = the domain default);
 * every change is audited.
 */

import { checkPassword as passwordProblem } from '../auth/passwordPolicy.ts';
import { hashPassword, verifyPassword } from '../auth/passwords.ts';
import { AuthenticationError, type Issue, ValidationError } from '../repos/errors.ts';
import type { Repos } from '../repos/index.ts';
import type { AliasRow, UserRow } from '../repos/rows.ts';

export { PASSWORD_MAX, PASSWORD_MIN } from '../auth/passwordPolicy.ts';

export interface UserInput {
  fullName?: string | null;
  quota?: number | null;
  status?: UserRow['status'];
}

function checkPassword(password: string, email: string): Issue[] {
  const problem = passwordProblem(password, { email });
  return problem ? [{ path: ['password'], message: problem }] : [];
}

function checkUser(input: UserInput): Issue[] {
  const issues: Issue[] = [];
  if (input.quota !== undefined && input.quota !== null && (!Number.isSafeInteger(input.quota) || input.quota < 0))
    issues.push({ path: ['quota'], message: 'must be a whole number of bytes, 0 or more (0 = unlimited)' });
  if (input.status !== undefined && !['active', 'disabled', 'suspended'].includes(input.status))
    issues.push({ path: ['status'], message: 'must be one of active, disabled, suspended' });
  if (input.fullName && input.fullName.length > 256)
    issues.push({ path: ['fullName'], message: 'must be at most 256 characters' });
  return issues;
}

export function createAccountService(repos: Repos) {
  return {
    async createUser(actor: string, email: string, password: string, input: UserInput = {}): Promise<UserRow> {
      const issues = [...checkPassword(password, email), ...checkUser(input)];
      if (issues.length) throw new ValidationError(issues);
      const passwordHash = await hashPassword(password);
      const row = repos.users.create({
        email,
        passwordHash,
        fullName: input.fullName,
        quota: input.quota,
        status: input.status,
      });
      repos.audit.record(actor, 'user.create', 'user', row.email);
      return row;
    },

    updateUser(actor: string, email: string, input: UserInput): UserRow {
      const issues = checkUser(input);
      if (issues.length) throw new ValidationError(issues);
      const patch: Parameters<Repos['users']['update']>[1] = {};
      if (input.fullName !== undefined) patch.full_name = input.fullName;
      if (input.quota !== undefined) patch.quota = input.quota;
      if (input.status !== undefined) patch.status = input.status;
      const row = repos.users.update(email, patch);
      repos.audit.record(actor, 'user.update', 'user', row.email, { fields: Object.keys(patch) });
      return row;
    },

    async setPassword(actor: string, email: string, password: string): Promise<UserRow> {
      const user = repos.users.require(email);
      const issues = checkPassword(password, user.email);
      if (issues.length) throw new ValidationError(issues);
      repos.users.setPasswordHash(user.email, await hashPassword(password));
      const sessionsEnded = repos.sessions.revokeAllForUser(user.id);
      repos.audit.record(actor, 'user.set_password', 'user', user.email, sessionsEnded ? { sessionsEnded } : undefined);
      return repos.users.require(user.email);
    },

    /**
     * Changes a password after checking the current one (AuthenticationError when it does not match); ends the
     * user's other API sessions (`keepSessionId`: the caller's own).
     */
    async changePassword(
      actor: string,
      email: string,
      currentPassword: string,
      newPassword: string,
      keepSessionId?: number | null,
    ): Promise<UserRow> {
      const user = repos.users.require(email);
      const issues = checkPassword(newPassword, user.email);
      if (issues.length) throw new ValidationError(issues);
      if (!(await verifyPassword(currentPassword, user.password_hash)))
        throw new AuthenticationError('the current password is not correct');
      repos.users.setPasswordHash(user.email, await hashPassword(newPassword));
      for (const sess of repos.sessions.listForUser(user.id))
        if (sess.id !== keepSessionId) repos.sessions.revoke(sess.id);
      repos.audit.record(actor, 'user.change_password', 'user', user.email);
      return repos.users.require(user.email);
    },

    deleteUser(actor: string, email: string): UserRow {
      const row = repos.users.delete(email);
      repos.audit.record(actor, 'user.delete', 'user', row.email);
      return row;
    },

    createAlias(actor: string, address: string, destinations: string[]): AliasRow {
      const row = repos.aliases.create(address, destinations);
      repos.audit.record(actor, 'alias.create', 'alias', row.address, { destinations: row.destinations });
      return row;
    },

    deleteAlias(actor: string, address: string): AliasRow {
      const row = repos.aliases.delete(address);
      repos.audit.record(actor, 'alias.delete', 'alias', row.address);
      return row;
    },
  };
}

export type AccountService = ReturnType<typeof createAccountService>;
