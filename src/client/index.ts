/**
 * Stowage's registry client library: talk to any OCI registry (Stowage, Distribution,
 * Docker Hub, ghcr.io, …) with docker's credentials.
 *
 *   const client = new RegistryClient({ onProgress });          // docker config.json credentials
 *   const repo = client.repository(parseReference('localhost:5000/team/app'));
 *   await repo.resolve('v1');                                   // → descriptor
 *   await pushArtifact(client, ref, { artifactType, layers });  // any artifact type
 *   await copy(client, src, dst);                               // every platform, byte for byte
 *
 * Layers: reference/challenge/credentials (pure or file-level), http + session
 * (transport, auth negotiation), client (the distribution API per repository),
 * graph (moving manifest trees), archive/* (docker save and OCI layouts), ops/*
 * (what the CLI commands do).
 */
export { RegistryClient, Repository, MANIFEST_ACCEPT, manifestMediaType, referrersTag } from './client.js';
export type { ClientOptions, Destination, FetchedManifest, PushedManifest, Referrers } from './client.js';
export { ClientError, clientError, isClientError } from './errors.js';
export type { ClientErrorCode } from './errors.js';
export {
  parseReference,
  parseRepository,
  parseRegistryHost,
  formatReference,
  familiarName,
  manifestRef,
  withTag,
  withDigest,
  apiHost,
  isLoopback,
  DOCKER_HUB,
} from './reference.js';
export type { Reference, ParseOptions } from './reference.js';
export { parseChallenges, pickChallenge } from './challenge.js';
export type { Challenge } from './challenge.js';
export {
  DockerCredentialStore,
  StaticCredentials,
  configKey,
  defaultDockerConfigPath,
  defaultHelmConfigPath,
} from './credentials.js';
export type { Credential, CredentialProvider, StoreResult } from './credentials.js';
export type { LoginResult, AuthMode } from './session.js';
export { LocalContent, describeBytes, describeFile, verifyBytes, MAX_MANIFEST_BYTES } from './content.js';
export type { ContentSource, BlobSource, Descriptor } from './content.js';
export type { UploadResult } from './upload.js';
export { pushGraph, fetchGraph, manifestChildren } from './graph.js';
export type { PushGraphOptions, PushGraphResult, PushStats, ContentSink, FetchGraphOptions } from './graph.js';
export type { ProgressEvent, ProgressListener, BlobEvent, ManifestEvent } from './progress.js';
export { parsePlatform, formatPlatform, hostPlatform, platformMatches } from './platform.js';
export type { Platform } from './platform.js';
export { ImageArchive } from './archive/import.js';
export type { ArchiveImage, ArchiveFormat, PreparedImage } from './archive/import.js';
export { LayoutDir } from './archive/export.js';
export { pushImage, pullImage, pullToLayout, selectPlatform } from './ops/image.js';
export type { PushImageResult, PullImageResult, PullImageOptions, PullTarget } from './ops/image.js';
export { copy, tag } from './ops/copy.js';
export type { CopyResult, TagResult } from './ops/copy.js';
export { attachedTree, attachedNodes, COSIGN_TAG_SUFFIXES } from './ops/attached.js';
export type { AttachedNode, AttachedOptions } from './ops/attached.js';
export { inspect } from './ops/inspect.js';
export type { InspectResult } from './ops/inspect.js';
export { pushArtifact, pullArtifact, addToReferrersTag, EMPTY_CONFIG, ANNOTATION_TITLE } from './ops/artifact.js';
export type { ArtifactLayer, PushArtifactOptions, PushArtifactResult, PulledArtifact } from './ops/artifact.js';
export {
  pushFluxArtifact,
  pullFluxArtifact,
  listFluxArtifacts,
  tagFluxArtifact,
  diffFluxArtifact,
  buildFluxArtifact,
} from './ops/flux-artifact.js';
export type {
  FluxPushOptions,
  FluxPushResult,
  FluxPullResult,
  FluxListEntry,
  FluxDiffResult,
  FluxBuildResult,
} from './ops/flux-artifact.js';
export { pushPolicy, pullPolicy } from './ops/policy.js';
export type { PolicyPushOptions, PolicyPushResult, PolicyPullResult } from './ops/policy.js';
export { pushChart } from './ops/chart-push.js';
export type { PushChartOptions, PushChartResult } from './ops/chart-push.js';
export { pullChart } from './ops/chart-pull.js';
export type { PullChartOptions, PullChartResult } from './ops/chart-pull.js';
export { showChart } from './ops/chart-show.js';
export type { ShowChartResult } from './ops/chart-show.js';
export { resolveChartVersion } from './ops/chart-version.js';
export type { ResolvedChart } from './ops/chart-version.js';
export { fetchChartManifest } from './ops/chart-fetch.js';
export { HELM_MEDIA_TYPES } from '../chart/index.js';
export { signReference, attestReference, pushBundleReferrer, inTotoStatement, signStatement } from './ops/sign.js';
export type { SignOptions, SignResult, AttestResult, PushedReferrer } from './ops/sign.js';
export { findSignatures, findBundles, verifyReference, resolveVerified } from './ops/verify.js';
export type { FoundSignature, FoundBundle, VerifiedSignature, ResolvedVerified } from './ops/verify.js';
export {
  readSigningKey,
  readTrustedKeys,
  readTrustedRoot,
  writeKeyPair,
  assertKeyPairAbsent,
} from './ops/key-files.js';
export { verifyBlob } from './ops/verify-blob.js';
export { mirror, mirrorRepositories, parseRepositorySet, tagFilter } from './ops/mirror.js';
export type {
  MirrorFilters,
  MirrorOptions,
  MirrorResult,
  MirrorTagEvent,
  MirrorTagResult,
  RepositoriesMirrorResult,
} from './ops/mirror.js';
