// The workflow bundle's entry: every workflow the worker runs is exported here.
export { pingWorkflow } from './ping';
export { subscriberWorkflow } from './subscriber';
export { validationWorkflow } from './validation';
export { tenantWorkflow } from './tenant';
export { eventRecordWorkflow } from './event-record';
