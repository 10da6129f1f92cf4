/* lsk.h — umbrella header of the LSSKD C kernel library. See each header for contracts. */
#ifndef LSK_H
#define LSK_H
#include "lsk_common.h"
#include "lsk_gemm.h"
#include "lsk_conv.h"
#include "lsk_eltwise.h"
#include "lsk_norm.h"
#include "lsk_pool.h"
#include "lsk_linear.h"
#include "lsk_loss.h"
#include "lsk_shuffle.h"
#include "lsk_model.h"
#endif
