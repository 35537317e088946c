// Names for the generated API types, so components need not spell out
// `components['schemas'][...]`. Nothing here is written by hand: every type
// comes from schema.d.ts, which openapi-typescript makes from docs/openapi.json.
import type { components, operations, paths } from './schema';

type Schemas = components['schemas'];

export type { paths };
export type Vps = Schemas['Vps'];
export type VpsCreate = Schemas['VpsCreate'];
export type VpsPatch = Schemas['VpsPatch'];
export type VpsStatus = Schemas['VpsStatus'];
export type Purpose = Schemas['Purpose'];
export type IpLabel = Schemas['IpLabel'];
export type IpEntry = Schemas['IpEntry'];
export type BillingCycle = Schemas['BillingCycle'];
export type Source = Schemas['Source'];
export type AgentStatus = Schemas['AgentStatus'];
export type VpsSort = Schemas['VpsSort'];
export type SortOrder = Schemas['SortOrder'];
export type Provider = Schemas['Provider'];
export type ProviderCreate = Schemas['ProviderCreate'];
export type Stats = Schemas['Stats'];
export type Health = Schemas['Health'];
export type IpHistoryEntry = Schemas['IpHistoryEntry'];
export type ErrorBody = Schemas['ErrorBody'];
export type VpsListQuery = NonNullable<operations['list_vps']['parameters']['query']>;
export type AuditEntry = Schemas['AuditEntry'];
export type ActorKind = Schemas['ActorKind'];
export type AuditQuery = NonNullable<operations['list_audit']['parameters']['query']>;
export type Role = Schemas['Role'];
export type User = Schemas['User'];
export type UserCreate = Schemas['UserCreate'];
export type UserPatch = Schemas['UserPatch'];
export type Me = Schemas['Me'];
export type ApiKey = Schemas['ApiKey'];
export type ApiKeyCreate = Schemas['ApiKeyCreate'];
export type Agent = Schemas['Agent'];
export type AgentClaim = Schemas['AgentClaim'];
export type EnrollmentToken = Schemas['EnrollmentToken'];
export type EnrollmentTokenCreate = Schemas['EnrollmentTokenCreate'];
export type TotpSetup = Schemas['TotpSetup'];
export type FleetEvent = Schemas['FleetEvent'];
export type Heartbeat = Schemas['Heartbeat'];
