// No secret anywhere (the shared cases of tests/shared/secrets.mjs).
import { nodeContext, finishNode } from './context.mjs';
import { secretCases } from '../shared/secrets.mjs';

secretCases(nodeContext());
finishNode();
