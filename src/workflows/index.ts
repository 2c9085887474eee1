// The workflow bundle's entry: every workflow the worker runs is exported here.
export { subscriberWorkflow } from './subscriber';
export { handshakeWorkflow } from './handshake';
export { ingressWorkflow } from './ingress';
