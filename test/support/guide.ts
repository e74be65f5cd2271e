/** Names the onboarding guide uses, written out independently of the code under test. */

/** Every setting of the guide's conf/env.cfg, in its order. */
export const GUIDE_ENV_CFG_KEYS = [
  'REMOTE_DIR',
  'CONTAINER_FS_SIZE',
  'IMAGE_DEPLOY_DIR',
  'SCRIPT_DEPLOY_DIR',
  'LUSTRE_NEEDED',
  'AUTOFS_NEEDED',
  'LDAPS_NEEDED',
  'SSSD_NEEDED',
  'ONTAP_NEEDED',
  'ONTAP_FOLDERS',
  'IMAGE_NAME_LIST',
  'XSPOT_RPM_VERSION',
  'XSPOT_PLATFORM',
  'XSPOT_KERNEL',
  'XSPOT_GUEST_KERNEL',
  'CLI_WRAPPER_VERSION',
  'IS_SYSTEMD',
] as const;
