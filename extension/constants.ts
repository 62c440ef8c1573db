/** The extension's registered name: Lambda requires it to equal its file name in /opt/extensions. */
export const EXTENSION_NAME = 'loki-lambda';
