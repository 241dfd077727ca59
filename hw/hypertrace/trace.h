#include "trace/trace-hw_hypertrace.h"
