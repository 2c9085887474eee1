/**
 * Workflow ids, derived from what must be unique. Pure: imported by the API and by workflows. Each id
 * has one variable part, or parts of fixed shape (`sub_` + 32 hex, a 32-hex handshake id), so no two
 * different inputs can give one id: a tenant `acme` and a tenant `acme-corp` never share one.
 */

/** A subscription's workflow. */
export function subscriberWorkflowId(subscriptionId: string): string {
  return `hookline-sub-${subscriptionId}`;
}

/** A tenant's ingress workflow: Temporal-native producers signal `publish` to it. */
export function ingressWorkflowId(tenant: string): string {
  return `hookline-ingress-${tenant}`;
}

/** One CloudEvents handshake of a subscription (a child of its subscriber workflow). */
export function handshakeWorkflowId(subscriptionId: string, handshakeId: string): string {
  return `hookline-handshake-${subscriptionId}-${handshakeId}`;
}
