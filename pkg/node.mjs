// Node entry (ESM): the CommonJS build, so `import` and `require` share one wasm instance.
import cjs from './node.cjs';

export const { DynatraceClient, AppDynamicsClient, OAuthClient, DynatraceAccountClient, ApmOAuthError, ERROR_CODES } = cjs;
