/// The OpenAPI 3 description of the REST API, served at `/api/openapi.json`.
enum OpenAPIDocument {
    static let json = #"""
{
 "openapi": "3.0.3",
 "info": {
  "title": "clasp-gateway admin API",
  "version": "1",
  "description": "Session cookie (from login) or `Authorization: Bearer <API token>`. With the cookie, every call that is not GET needs the `X-CSRF-Token` header (the `csrf` value from login or GET /api/auth)."
 },
 "components": {
  "securitySchemes": {
   "cookie": {
    "type": "apiKey",
    "in": "cookie",
    "name": "clasp_admin"
   },
   "bearer": {
    "type": "http",
    "scheme": "bearer"
   }
  },
  "schemas": {
   "Problem": {
    "type": "object",
    "properties": {
     "error": {
      "type": "string"
     },
     "problems": {
      "type": "array",
      "items": {
       "type": "object",
       "properties": {
        "field": {
         "type": "string"
        },
        "reason": {
         "type": "string"
        }
       }
      }
     }
    }
   },
   "BridgeConfig": {
    "type": "object",
    "required": [
     "kind"
    ],
    "properties": {
     "id": {
      "type": "string",
      "pattern": "^[A-Za-z0-9_-]{1,64}$"
     },
     "kind": {
      "type": "string"
     },
     "enabled": {
      "type": "boolean",
      "default": true
     },
     "options": {
      "type": "object",
      "additionalProperties": true
     }
    }
   },
   "Password": {
    "type": "object",
    "required": [
     "password"
    ],
    "properties": {
     "password": {
      "type": "string",
      "minLength": 8
     }
    }
   }
  }
 },
 "security": [
  {
   "cookie": []
  },
  {
   "bearer": []
  }
 ],
 "paths": {
  "/healthz": {
   "get": {
    "summary": "Liveness: 200 ok",
    "tags": [
     "system"
    ],
    "responses": {
     "200": {
      "description": "OK"
     }
    },
    "security": []
   }
  },
  "/metrics": {
   "get": {
    "summary": "Prometheus text format: sessions, messages received per type, errors sent per code, bridge states and counters, process CPU and memory",
    "tags": [
     "system"
    ],
    "responses": {
     "200": {
      "description": "OK"
     }
    },
    "security": []
   }
  },
  "/api/openapi.json": {
   "get": {
    "summary": "This document",
    "tags": [
     "system"
    ],
    "responses": {
     "200": {
      "description": "OK"
     }
    },
    "security": []
   }
  },
  "/api/auth": {
   "get": {
    "summary": "Whether setup is needed, whether this browser is logged in, and its CSRF token",
    "tags": [
     "auth"
    ],
    "responses": {
     "200": {
      "description": "OK"
     }
    },
    "security": []
   }
  },
  "/api/auth/setup": {
   "post": {
    "summary": "First boot only: set the admin password (min 8 characters) and log in",
    "tags": [
     "auth"
    ],
    "responses": {
     "200": {
      "description": "logged in; Set-Cookie and {csrf}"
     },
     "409": {
      "description": "a password exists already"
     },
     "422": {
      "description": "password too short"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/Password"
       }
      }
     }
    },
    "security": []
   }
  },
  "/api/auth/login": {
   "post": {
    "summary": "Log in; 5 failed attempts per minute per address, then 429 with Retry-After",
    "tags": [
     "auth"
    ],
    "responses": {
     "200": {
      "description": "Set-Cookie and {csrf}"
     },
     "401": {
      "description": "wrong password"
     },
     "429": {
      "description": "rate limited"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/Password"
       }
      }
     }
    },
    "security": []
   }
  },
  "/api/auth/logout": {
   "post": {
    "summary": "End this session",
    "tags": [
     "auth"
    ],
    "responses": {
     "200": {
      "description": "OK"
     }
    }
   }
  },
  "/api/auth/password": {
   "post": {
    "summary": "Change the admin password; other sessions end",
    "tags": [
     "auth"
    ],
    "responses": {
     "401": {
      "description": "not logged in"
     },
     "403": {
      "description": "CSRF token missing or wrong, or cross-site"
     },
     "422": {
      "description": "invalid input",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "properties": {
         "current": {
          "type": "string"
         },
         "new": {
          "type": "string"
         }
        }
       }
      }
     }
    }
   }
  },
  "/api/tokens": {
   "get": {
    "summary": "API tokens (without their secrets)",
    "tags": [
     "auth"
    ],
    "responses": {
     "200": {
      "description": "OK"
     }
    }
   },
   "post": {
    "summary": "Create an API token; the secret is in the answer once",
    "tags": [
     "auth"
    ],
    "responses": {
     "201": {
      "description": "{id, name, created, token}"
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "properties": {
         "name": {
          "type": "string"
         }
        }
       }
      }
     }
    }
   }
  },
  "/api/tokens/{id}": {
   "delete": {
    "summary": "Revoke an API token",
    "tags": [
     "auth"
    ],
    "responses": {
     "200": {
      "description": "OK"
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "token id",
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/status": {
   "get": {
    "summary": "Name, version, uptime, CPU seconds, RSS, sessions, params, messages received per type",
    "tags": [
     "status"
    ],
    "responses": {
     "200": {
      "description": "OK"
     }
    }
   }
  },
  "/api/params": {
   "get": {
    "summary": "Params with value, revision and writer",
    "tags": [
     "params"
    ],
    "responses": {
     "200": {
      "description": "OK"
     }
    },
    "parameters": [
     {
      "name": "pattern",
      "in": "query",
      "required": false,
      "description": "address pattern, default /**",
      "schema": {
       "type": "string"
      }
     },
     {
      "name": "limit",
      "in": "query",
      "required": false,
      "description": "at most this many (default 1000)",
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/params/{address}": {
   "put": {
    "summary": "Set a param (as session `admin`); the router's rules apply",
    "tags": [
     "params"
    ],
    "responses": {
     "401": {
      "description": "not logged in"
     },
     "403": {
      "description": "CSRF token missing or wrong, or cross-site"
     },
     "422": {
      "description": "invalid input",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "type": "object",
        "properties": {
         "value": {}
        }
       }
      }
     }
    },
    "parameters": [
     {
      "name": "address",
      "in": "path",
      "required": true,
      "description": "the address without its leading slash",
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/monitor": {
   "get": {
    "summary": "Server-sent events: current values, then every change matching the pattern",
    "tags": [
     "params"
    ],
    "responses": {
     "200": {
      "description": "OK"
     }
    },
    "parameters": [
     {
      "name": "pattern",
      "in": "query",
      "required": false,
      "description": "address pattern, default /**",
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/transports": {
   "get": {
    "summary": "Listeners and their ports",
    "tags": [
     "status"
    ],
    "responses": {
     "200": {
      "description": "OK"
     }
    }
   }
  },
  "/api/bridge-kinds": {
   "get": {
    "summary": "Bridge kinds in this build with their option fields (type, range, choices, default, help)",
    "tags": [
     "bridges"
    ],
    "responses": {
     "200": {
      "description": "OK"
     }
    }
   }
  },
  "/api/bridges": {
   "get": {
    "summary": "Bridges with state and counters",
    "tags": [
     "bridges"
    ],
    "responses": {
     "200": {
      "description": "OK"
     }
    }
   },
   "post": {
    "summary": "Add a bridge; it starts at once and is saved",
    "tags": [
     "bridges"
    ],
    "responses": {
     "201": {
      "description": "added"
     },
     "409": {
      "description": "id taken"
     },
     "422": {
      "description": "invalid: each problem names the field",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/BridgeConfig"
       }
      }
     }
    }
   }
  },
  "/api/bridges/{id}": {
   "get": {
    "summary": "One bridge",
    "tags": [
     "bridges"
    ],
    "responses": {
     "200": {
      "description": "OK"
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "bridge id",
      "schema": {
       "type": "string"
      }
     }
    ]
   },
   "put": {
    "summary": "Change a bridge (enable/disable with `enabled`); only it restarts",
    "tags": [
     "bridges"
    ],
    "responses": {
     "401": {
      "description": "not logged in"
     },
     "403": {
      "description": "CSRF token missing or wrong, or cross-site"
     },
     "422": {
      "description": "invalid input",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/json": {
       "schema": {
        "$ref": "#/components/schemas/BridgeConfig"
       }
      }
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "bridge id",
      "schema": {
       "type": "string"
      }
     }
    ]
   },
   "delete": {
    "summary": "Stop and remove a bridge",
    "tags": [
     "bridges"
    ],
    "responses": {
     "200": {
      "description": "OK"
     }
    },
    "parameters": [
     {
      "name": "id",
      "in": "path",
      "required": true,
      "description": "bridge id",
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  },
  "/api/config": {
   "get": {
    "summary": "Export the running config as a TOML file",
    "tags": [
     "config"
    ],
    "responses": {
     "200": {
      "description": "OK"
     }
    }
   },
   "put": {
    "summary": "Import a TOML config file: validated, bridges applied live, saved; answers the keys that need a restart",
    "tags": [
     "config"
    ],
    "responses": {
     "401": {
      "description": "not logged in"
     },
     "403": {
      "description": "CSRF token missing or wrong, or cross-site"
     },
     "422": {
      "description": "invalid input",
      "content": {
       "application/json": {
        "schema": {
         "$ref": "#/components/schemas/Problem"
        }
       }
      }
     }
    },
    "requestBody": {
     "required": true,
     "content": {
      "application/toml": {
       "schema": {
        "type": "string"
       }
      }
     }
    }
   }
  },
  "/api/restart": {
   "post": {
    "summary": "Restart the gateway (re-exec of the same binary and arguments)",
    "tags": [
     "system"
    ],
    "responses": {
     "202": {
      "description": "restarting"
     }
    }
   }
  },
  "/api/logs": {
   "get": {
    "summary": "The newest log lines",
    "tags": [
     "system"
    ],
    "responses": {
     "200": {
      "description": "OK"
     }
    },
    "parameters": [
     {
      "name": "lines",
      "in": "query",
      "required": false,
      "description": "how many (default 200, at most 500)",
      "schema": {
       "type": "string"
      }
     }
    ]
   }
  }
 }
}
"""#
}
