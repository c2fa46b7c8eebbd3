// DynatraceClient against the emulator (the shared cases of tests/shared/dynatrace.mjs).
import { nodeContext, finishNode } from './context.mjs';
import { dynatraceCases } from '../shared/dynatrace.mjs';

dynatraceCases(nodeContext());
finishNode();
