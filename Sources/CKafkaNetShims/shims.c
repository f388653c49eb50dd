// Intentionally empty: the target only re-exports system headers (see include/).
#include "CKafkaNetShims.h"
