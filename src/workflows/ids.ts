/** Workflow ids, derived from what must be unique. Pure: imported by the API and by workflows. */

/** A subscription's workflow. */
export function subscriberWorkflowId(subscriptionId: string): string {
  return `hookline-sub-${subscriptionId}`;
}

/** A tenant's registry and ingress workflow; Temporal-native producers signal `publish` to it. */
export function tenantWorkflowId(tenant: string): string {
  return `hookline-ingress-${tenant}`;
}

/** An event's record; its id is the idempotency key of publishing. */
export function eventRecordWorkflowId(tenant: string, eventId: string): string {
  return `hookline-evt-${tenant}-${eventId}`;
}

/** The record of one publish's events whose ids Hookline generated (`evt_<key>_<nn>`). */
export function publishRecordWorkflowId(tenant: string, key: string): string {
  return `hookline-pub-${tenant}-${key}`;
}

/** A subscription's validation handshake (a child of its subscriber workflow). */
export function validationWorkflowId(subscriptionId: string): string {
  return `hookline-validate-${subscriptionId}`;
}
