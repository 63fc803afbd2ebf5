/**
 * Real-world byte vectors shared by the unit and registry tests. Each one is the
 * exact bytes a real tool produced, with the digest the world knows it by; any
 * re-serialisation would change the digest, which is the point.
 */

/**
 * Docker Hub `alpine:latest` linux/amd64 (2020): Docker schema 2, 3-space indent,
 * no trailing newline. Source: /work/shared/reference/manifests.md §6.1; the
 * digest is quoted by countless Dockerfiles (`alpine@sha256:a1579064…`).
 */
export const ALPINE_AMD64 = {
  text:
    '{\n' +
    '   "schemaVersion": 2,\n' +
    '   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",\n' +
    '   "config": {\n' +
    '      "mediaType": "application/vnd.docker.container.image.v1+json",\n' +
    '      "size": 1509,\n' +
    '      "digest": "sha256:a24bb4013296f61e89ba57005a7b3e52274d8edd3ae2077d04395f806b63d83e"\n' +
    '   },\n' +
    '   "layers": [\n' +
    '      {\n' +
    '         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",\n' +
    '         "size": 2797541,\n' +
    '         "digest": "sha256:df20fa9351a15782c64e6dddb2d4a6f50bf6d3688060a34c4014b0d9a752eb4c"\n' +
    '      }\n' +
    '   ]\n' +
    '}',
  size: 528,
  digest: 'sha256:a15790640a6690aa1730c38cf0a440e2aa44aaca9b0e8931a9f2b0d7cc90fd65',
  configDigest: 'sha256:a24bb4013296f61e89ba57005a7b3e52274d8edd3ae2077d04395f806b63d83e',
  layerDigest: 'sha256:df20fa9351a15782c64e6dddb2d4a6f50bf6d3688060a34c4014b0d9a752eb4c',
} as const;

/**
 * Helm v3.21.4's `testPush` expectation (pkg/registry/utils_test.go): a chart with
 * provenance, pushed without a top-level `mediaType` (Helm omits it). 742 bytes.
 * Blobs: the real signtest-0.1.0 chart, its .prov, and the config JSON.
 */
export const HELM_SIGNTEST = {
  manifest:
    '{"schemaVersion":2,"config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"sha256:8d17cb6bf6ccd8c29aace9a658495cbd5e2e87fc267876e86117c7db681c9580","size":99},' +
    '"layers":[{"mediaType":"application/vnd.cncf.helm.chart.provenance.v1.prov","digest":"sha256:b0a02b7412f78ae93324d48df8fcc316d8482e5ad7827b5b238657a29a22f256","size":695},' +
    '{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":"sha256:e5ef611620fb97704d8751c16bab17fedb68883bfb0edc76f78a70e9173f9b55","size":973}],' +
    '"annotations":{"org.opencontainers.image.created":"1977-09-02T22:04:05Z","org.opencontainers.image.description":"A Helm chart for Kubernetes","org.opencontainers.image.title":"signtest","org.opencontainers.image.version":"0.1.0"}}',
  manifestSize: 742,
  manifestDigest: 'sha256:fbbade96da6050f68f94f122881e3b80051a18f13ab5f4081868dd494538f5c2',
  config: '{"name":"signtest","version":"0.1.0","description":"A Helm chart for Kubernetes","apiVersion":"v1"}',
  configDigest: 'sha256:8d17cb6bf6ccd8c29aace9a658495cbd5e2e87fc267876e86117c7db681c9580',
  configMediaType: 'application/vnd.cncf.helm.config.v1+json',
  /** cmd/helm/testdata/testcharts/signtest-0.1.0.tgz, 973 bytes. */
  chartBase64:
    'H4sIFAAAAAAA/ykAK2FIUjBjSE02THk5NWIzVjBkUzVpWlM5Nk9WVjZNV2xqYW5keVRRbz1IZWxtAOxZTW/jNhPOmb9iXufyFljT' +
    'tB3HqG9Bs0CBtmmwWRQoimI9lsYSsRTJkpQTw81/L0RZTqC0dYvYDorVc5FNDTlDic98yctMB/Jh8E2OLvA1Furs0BBCiOlkEq9C' +
    'iPZVDEeXu99xfDiaTi/OQBzckj9B6QO6M/FqXe3N/UeAVv5EzkujZ7AaspR84qQN8f8VfEuqgKQ6GbA0Dr4rF+Q0BfJMY0EzaE4P' +
    'WzVrCD7kgr31rjr8U+z4v0JVkj+KA9jHfyHGLf6PR6OO/yfB5rEj65eMHf8DFVZhID+wJj2sG9jH/9Gkzf+LybDj/0nQiv+fpU5n' +
    'cGtSVlDAFAPOGEAr2HtLSTXsqHp24dYomaxncEMrcgwgMTqg1OR8JdTfzr5HGeJtAFlgRjPoobJS02zMx704npiiwEr/L73BQuqB' +
    'V0S29673tRCi92vnp46BHf95TqqQmTaODq1jL/8v2/n/eCQuO/6fAudwiyGQ0x6Cgfr9w31OGhalVKnUGVhMPmNGnrNz+JhLD760' +
    '1rjgweekFGTKLKDAkORSZ+/AkcIgVwQWQ/5sHHXKzkFThlV1Af+3jpbygVK4lyGH/33F4Uet1mB0nFmZBJYcKKmJM3599+kuGEeM' +
    'ZzJ0ruBg2PG/dsZHaQPs5f/4RfwfXYw7/p8Cf1f/X5NVZg0IC/Qygat4QuB7qcsHsCZluakCex6C9bPBoIof3Ofxum0P1GeKeVO6' +
    'hPyM9XfCmQx5ueCJKaJ8PalrIpwebf5/eH91/cN7XqQH1LGP/xMxbMf/ybTj/0kQAzo9YGEVwT16yEiTw0AplL6K/iGnJjGHeR77' +
    'gY4w0Jbcc87Yx5xg/lQ/ziGVjpJg3LqpBTwgrMitwcuoyJq0qh6iX6jjP7LElNUtswSLDgsK5Hyz+LPm1ByWUtHTwpV9KS2xVAFq' +
    'sdiqDDmxeW1ivylo59AYyRn72ZSQoAapfUClIDx/EPXW6+02AqlJ/GAr4Ae73b/1C3wl2vx/eo2th/cKHXv5/yL+T6uUoOP/CfAv' +
    '6v/Nhn8gReiJ32BBj4/9zYbX+WL9nwEoXJCKdT9ATk6GWOk/m3lHbiWTWhjqTws3zeqttba3d+btJLYj8Dv8VppQCf9FR2KzaTxD' +
    'LzYnesC3Ep9sFIl6vuh+RZv/x/gMsI//Yjx90f8THf9Pgqqkr+Nxdey3eXux7m9T97c2r0OHDh06HAl/BAAA//+gGyxEACQAAA==',
  chartDigest: 'sha256:e5ef611620fb97704d8751c16bab17fedb68883bfb0edc76f78a70e9173f9b55',
  chartSize: 973,
  /** The chart's provenance file (PGP clearsign), 695 bytes. */
  provBase64:
    'LS0tLS1CRUdJTiBQR1AgU0lHTkVEIE1FU1NBR0UtLS0tLQpIYXNoOiBTSEE1MTIKCmFwaVZlcnNpb246IHYxCmRlc2NyaXB0aW9u' +
    'OiBBIEhlbG0gY2hhcnQgZm9yIEt1YmVybmV0ZXMKbmFtZTogc2lnbnRlc3QKdmVyc2lvbjogMC4xLjAKCi4uLgpmaWxlczoKICBz' +
    'aWdudGVzdC0wLjEuMC50Z3o6IHNoYTI1NjplNWVmNjExNjIwZmI5NzcwNGQ4NzUxYzE2YmFiMTdmZWRiNjg4ODNiZmIwZWRjNzZm' +
    'NzhhNzBlOTE3M2Y5YjU1Ci0tLS0tQkVHSU4gUEdQIFNJR05BVFVSRS0tLS0tCgp3c0JjQkFFQkNnQVFCUUpjb29zZkNSQ0VPNytZ' +
    'SDhHSFlnQUEyMjBJQUxBczhUOE5QZ2tjTHZIdSs1MTA5Y0FOCkJPQ05QU1pETnNxTFpXLzJEYzljS29CRzdKZW40UWFkK2k1bDkz' +
    'NTFrcW4zRDlHbTZlUmZBV2NqZmdnUm9iVi8KOWRhWjE5aDBubDRPMW11UU5Ba2p2ZGdadDhNT1AzK1BCM0kzL1R1MlFDWWpJNTc5' +
    'U0xVbXVYbGNaUjVCQ0ZQUgpQSnkrZTNRcFYyUGNkZVUyS1pMRzR0anRscnErM1FDOVpISEVKTHMrQlZOOWQ0NkR3bzZDeEpkSEpy' +
    'cnJBa1R3Ck04TWhBOTJ2YmlUVFBSU0NaSTl4NXFEQXdKWWhvcTBveExmbHB1TDJ0SWxvM3FWb0NzYVRTVVJ3TUVTRUhPMzIKWHdZ' +
    'RzdCYVZETUVMV2hBb3JCQUdCR0J3V0ZiSjE2NzdxUTJnZDlDTjBDT2lWaGVrV2xGUmNubjYwODAwcjg0PQo9azlZOQotLS0tLUVO' +
    'RCBQR1AgU0lHTkFUVVJFLS0tLS0=',
  provDigest: 'sha256:b0a02b7412f78ae93324d48df8fcc316d8482e5ad7827b5b238657a29a22f256',
  provSize: 695,
} as const;

/**
 * OPA's OCI downloader fixture (v1/download/testdata/signed.manifest): an OCI
 * manifest without `mediaType`, the 2-byte `{}` as config and one policy bundle
 * layer with layer annotations. 596 bytes, 3-space indent, no trailing newline.
 */
export const OPA_SIGNED = {
  text:
    '{\n   "schemaVersion":2,\n   "config":{\n      "mediaType":"application/vnd.oci.image.config.v1+json",\n' +
    '      "digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",\n      "size":2\n   },\n' +
    '   "layers":[\n      {\n         "mediaType":"application/vnd.oci.image.layer.v1.tar+gzip",\n' +
    '         "digest":"sha256:7fccf82798e6e627afd04144889570d966583788473db2888f0d0d325904d273",\n         "size":764,\n' +
    '         "annotations":{\n            "org.opencontainers.image.created":"2022-02-11T09:00:07Z",\n' +
    '            "org.opencontainers.image.title":"dani/testpol"\n         }\n      }\n   ]\n}',
  size: 596,
  digest: 'sha256:e028a2227172ec276e1ced60f9670b0676ddf58631cabab4eb7cbdeb3bc5d107',
} as const;

/** The two digests every registry meets. */
export const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const EMPTY_SHA512 =
  'sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e';
/** `{}`, the OCI empty descriptor's blob. */
export const EMPTY_JSON_SHA256 = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
