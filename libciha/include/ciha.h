/* ciha.h: the one header users include. */
#ifndef CIHA_H
#define CIHA_H
#include "ciha/common.h"
#include "ciha/errors.h"
#include "ciha/log.h"
#include "ciha/credentials.h"
#include "ciha/sigv4.h"
#include "ciha/client.h"
#include "ciha/call.h"
#include "ciha/snapshot.h"
#include "ciha/stack.h"
#include "ciha/alarm.h"
#include "ciha/env.h"
#include "ciha/iam.h"
#endif
