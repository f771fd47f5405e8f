// Errors the REST API answers with, in Marathon's shapes; the HTTP layer
// turns each into its status and body, in one place.
import type { FieldError } from './app-definition.js';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(readonly status: number, readonly body: Record<string, unknown>) {
    super(String(body.message ?? `HTTP ${status}`));
  }
}

/** 422: `{"message":"Object is not valid","details":[{"path","errors"}]}`. */
export const invalid = (details: FieldError[]): ApiError => new ApiError(422, { message: 'Object is not valid', details });

export const notFound = (message: string): ApiError => new ApiError(404, { message });

/** 409 for an app a running deployment holds, as Marathon words it. */
export const locked = (deploymentIds: readonly string[]): ApiError =>
  new ApiError(409, {
    message: `App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'.`,
    deployments: deploymentIds.map((id) => ({ id })),
  });

export const badRequest = (message: string): ApiError => new ApiError(400, { message });
