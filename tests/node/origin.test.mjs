// Origin safety: other origins, redirects, plain HTTP (the shared cases of tests/shared/origin.mjs).
import { nodeContext, finishNode } from './context.mjs';
import { originCases } from '../shared/origin.mjs';

originCases(nodeContext());
finishNode();
