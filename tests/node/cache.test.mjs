// The token cache and the 401 retry (the shared cases of tests/shared/cache.mjs).
import { nodeContext, finishNode } from './context.mjs';
import { cacheCases } from '../shared/cache.mjs';

cacheCases(nodeContext());
finishNode();
