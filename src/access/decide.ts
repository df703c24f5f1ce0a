// Stage: may this principal call this model? Pure: principal × workspace × model → decision.
import { EdgeError } from '../core/errors.js'
import type { Principal } from '../core/identity.js'

const FORBIDDEN_WORKSPACE = new EdgeError('FORBIDDEN', 'This credential has no access to this workspace.')
const FORBIDDEN_MODEL = new EdgeError('FORBIDDEN', 'This credential is not allowed to call this model (key scopes).')

/** Workspace-level access, decided before anything that reveals whether the workspace exists. */
export function decideWorkspaceAccess (principal: Principal, workspace: string): EdgeError | null {
  if (principal.workspaces === null) return null
  return principal.workspaces.has(workspace) ? null : FORBIDDEN_WORKSPACE
}

/** Model-level access (key scopes), by the path's model name: decided before the model is looked up, so an out-of-scope name gets 403 whether or not it exists. */
export function decideModelAccess (principal: Principal, model: string): EdgeError | null {
  if (principal.scopes === null) return null
  return principal.scopes.has(model) ? null : FORBIDDEN_MODEL
}
