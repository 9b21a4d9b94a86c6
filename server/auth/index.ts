/** Host-side authentication helpers for the sync endpoints. */
export { AuthError, isAuthError } from './auth-error.ts';
export type { AuthErrorCode } from './auth-error.ts';
export { bearerToken, createJwtAuth, JwtAuthConfigError } from './jwt-auth.ts';
export type { AuthenticatedUser, JwtAuth, JwtAuthOptions, JwtKeySource } from './jwt-auth.ts';
export { signDevToken } from './dev-token.ts';
export type { DevTokenOptions } from './dev-token.ts';
