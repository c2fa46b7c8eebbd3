// Every error code (the shared cases of tests/shared/errors.mjs).
import { nodeContext, finishNode } from './context.mjs';
import { errorCases } from '../shared/errors.mjs';

errorCases(nodeContext());
finishNode();
