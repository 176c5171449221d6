export * from './config';
export * from './dc-config';
export * from './logger';
export * from './run-main';
export * from './polling-loop';
export * from './within';
export * from './stop-on-signals';
export * from './server-tls';
