/** The shared contract suites, run against every driver drivers.ts names. */
import { blobStoreSuite } from './blob-store-suite.js';
import { blobStoreDrivers, metadataStoreDrivers } from './drivers.js';
import { metadataStoreSuite } from './metadata-store-suite.js';

for (const [driver, factory] of Object.entries(blobStoreDrivers)) blobStoreSuite(driver, factory);
for (const [driver, factory] of Object.entries(metadataStoreDrivers)) metadataStoreSuite(driver, factory);
