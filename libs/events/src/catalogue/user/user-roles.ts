export const USER_ROLES = ['ADMIN', 'PUBLISHER', 'DEVELOPER'] as const;
export type UserRole = (typeof USER_ROLES)[number];
