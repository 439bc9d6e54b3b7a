// The end-to-end encryption key server: device keys, one-time and fallback keys,
// cross-signing, to-device messaging, device lists, key backup, dehydrated devices.
export * from './types.js';
export * from './errors.js';
export * from './ports.js';
export { E2eeService, type E2eeDeps } from './e2eeService.js';
export { DeviceKeysService, type KeyUploadBody, type KeysQueryResult, type KeysClaimResult } from './deviceKeys.js';
export { CrossSigningService, type CrossSigningUpload } from './crossSigning.js';
export { DeviceLists, type DeviceListChanges } from './deviceLists.js';
export { ToDeviceService, TO_DEVICE_SYNC_LIMIT } from './toDevice.js';
export { KeyBackupService, type RoomsKeys, type BackupInfo, type BackupUpdate } from './keyBackup.js';
export { shouldReplace } from './backupRules.js';
export { DehydratedDeviceService, type DehydratedDeviceBody } from './dehydratedDevice.js';
export { E2eeSyncExtension, type SyncWindow } from './syncExtension.js';
